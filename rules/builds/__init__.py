"""CUDA builds: CMake projects, Python extension builds (setup.py, `load()`) and the nvcc flags in both."""
