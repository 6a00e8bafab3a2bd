"""cudaudit: find CUDA lock-in in ML code and say what each target backend needs."""

__version__ = "0.1.0"
