"""The package surface: every public name resolves, and ``import nanohf`` stays light (cold start)."""

import subprocess
import sys

import nanohf
import nanohf.optim


def test_every_public_name_resolves_to_its_module():
    for name in nanohf.__all__:
        value = getattr(nanohf, name)
        assert value is not None, name
    assert nanohf.PreTrainedConfig is nanohf.PretrainedConfig


def test_optim_exports_are_all_public():
    missing = set(nanohf.optim.__all__) - set(nanohf.__all__)
    assert not missing, f"nanohf.optim exports missing from nanohf.__all__: {sorted(missing)}"


def test_unknown_name_is_an_attribute_error():
    try:
        nanohf.NoSuchModel  # noqa: B018
    except AttributeError as err:
        assert "NoSuchModel" in str(err)
    else:
        raise AssertionError("nanohf.NoSuchModel should raise AttributeError")


def test_import_is_lazy():
    """``import nanohf`` alone must not import Numba, the Trainer, the pipelines or MPI: they cost a cold start
    ~0.5 s before the first kernel even runs."""
    code = "import sys, nanohf; print(sorted(m for m in sys.modules if m.split('.')[0] in {'numba', 'nanohf'}))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['nanohf']", loaded


def test_submodules_are_reachable_as_attributes():
    assert nanohf.kernels.layernorm_forward is not None
    assert nanohf.nn.Linear is not None
