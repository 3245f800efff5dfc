using UserModeOS.Conformance.Harness;

namespace UserModeOS.Conformance.Cpu;

/// <summary>
/// Self-modifying and generated code (what JITs do): a store into code must take effect
/// the next time that code runs — even when it is the next instruction of the block being
/// executed, as x86 guarantees.
/// </summary>
[TestFixture("gcc")]
[TestFixture("musl-gcc")]
public sealed class SelfModifyingCodeTests(string compiler)
{
    private const string Source = """
        #include <stdio.h>
        #include <string.h>
        #include <sys/mman.h>
        typedef unsigned (*fn)(void);
        int main(void)
        {
            unsigned char *p = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            /* lea rax,[rip+4]; mov byte [rax+1],0x22; mov eax,0x11111111; ret
               The store patches the immediate of the very next instruction. */
            static const unsigned char patchNext[] = {
                0x48, 0x8d, 0x05, 0x04, 0x00, 0x00, 0x00, 0xc6, 0x40, 0x01, 0x22,
                0xb8, 0x11, 0x11, 0x11, 0x11, 0xc3 };
            memcpy(p, patchNext, sizeof patchNext);
            printf("patch ahead: %08x\n", ((fn)p)());
            printf("again:       %08x\n", ((fn)p)());

            /* Generated code run, rewritten from C, and run again. */
            static const unsigned char ret7[] = { 0xb8, 0x07, 0x00, 0x00, 0x00, 0xc3 };
            memcpy(p + 64, ret7, sizeof ret7);
            unsigned before = ((fn)(p + 64))();
            p[65] = 0x2a;
            printf("rewritten:   %u -> %u\n", before, ((fn)(p + 64))());

            /* A loop whose body is patched between calls. */
            unsigned sum = 0;
            for (int i = 0; i < 50; i++) { p[65] = (unsigned char)i; sum += ((fn)(p + 64))(); }
            printf("loop sum:    %u\n", sum);
            return 0;
        }
        """;

    [Test]
    public void StoresIntoCodeTakeEffect() =>
        Compare.AssertSameAsNative([CProgram.Compile(Source, compiler)]);
}
