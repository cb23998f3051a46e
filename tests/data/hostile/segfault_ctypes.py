# base: solution
# status: kernel_died
# score: 0
# says: SIGSEGV
# A read of address 0 through ctypes kills the kernel with a segmentation fault.
import ctypes
ctypes.string_at(0)
