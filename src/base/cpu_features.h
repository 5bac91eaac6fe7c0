// Which instruction sets the kernels may use, decided once from CPUID. DSV4_ISA=scalar|avx2|avx512 (or
// set_isa_limit) caps the choice, so tests and benchmarks can run the slower variants on any machine.
#pragma once

namespace dsv4 {

enum class Isa : int { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };  // kAvx2 includes FMA and F16C;
                                                                 // kAvx512 includes BW, VL, BF16, VBMI, VNNI
const char* isa_name(Isa isa);

Isa cpu_isa();        // the best the CPU and OS support
Isa active_isa();     // min(cpu_isa(), the limit)
void set_isa_limit(Isa limit);  // for tests; kernels read active_isa() on every call

}  // namespace dsv4
