"""One module per metric, each defining ``METRIC`` (an EvaluationModule subclass); ``load(name)`` finds it here."""
