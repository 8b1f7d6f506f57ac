"""Fast-math flags shared by the kernels.

``REDUCE_FAST`` lets LLVM reorder the additions of a sum (so a row sum runs in SIMD lanes) and
fuse multiply-adds, without the other fast-math assumptions: infinities and NaNs keep their
meaning, which the masked softmax relies on.
"""

REDUCE_FAST = {"reassoc", "contract"}
