"""CUDA C++ sources: `.cu`/`.cuh` files and CUDA kernels written in Python strings, analysed with tree-sitter."""
