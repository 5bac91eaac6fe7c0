// Enables an instruction set for the rest of a source file, GCC and Clang alike. Per-ISA kernel files
// include everything first, then open a target region: code from headers (std:: templates, inline
// helpers) stays baseline x86-64, so no AVX-512 instruction can leak into functions the linker might share
// with the rest of the program. Nothing in a region may run before CPU dispatch picks it.
#pragma once

#if defined(__clang__)
#define DSV4_TARGET_AVX512 \
  _Pragma("clang attribute push(__attribute__((target(\"avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi,avx512vnni,fma,f16c\"))), apply_to = function)")
#define DSV4_TARGET_AVX2 _Pragma("clang attribute push(__attribute__((target(\"avx2,fma,f16c\"))), apply_to = function)")
#define DSV4_TARGET_END _Pragma("clang attribute pop")
#else
#define DSV4_TARGET_AVX512                                                         \
  _Pragma("GCC push_options") _Pragma("GCC target(\"avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi,avx512vnni,fma,f16c\")") \
      _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")            \
          _Pragma("GCC diagnostic ignored \"-Wuninitialized\"")
#define DSV4_TARGET_AVX2                                                                      \
  _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma,f16c\")") _Pragma("GCC diagnostic push") \
      _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")
#define DSV4_TARGET_END _Pragma("GCC diagnostic pop") _Pragma("GCC pop_options")
#endif
