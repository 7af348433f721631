// The sandbox's "pause" program, generated as machine code: without a registry there is no
// registry.k8s.io/pause image to pull, so the runtime makes its own. Like upstream's pause.c it
// installs handlers for SIGTERM and SIGINT that exit(0), then sleeps forever in pause() (ppoll on
// arm64, which has no pause syscall). As PID 1 of its container, a signal without a handler would
// be ignored, so the handlers are what lets `docker stop` end it at once.
//
// The file is a minimal static ELF64 executable: the ELF header, one PT_LOAD program header that
// maps the whole file read+execute at BASE, then the code, then the `struct sigaction` the code
// passes to rt_sigaction. No sections, no libc, no dynamic loader.

export type PauseArch = 'x64' | 'arm64';

/** Load address of the single segment: the conventional base for static executables. */
const BASE = 0x400000n;
const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const CODE_OFFSET = EHDR_SIZE + PHDR_SIZE;

const SIGINT = 2;
const SIGTERM = 15;
/** sa_flags bit telling the kernel sa_restorer is set; x86-64 refuses to deliver without it. */
const SA_RESTORER = 0x04000000n;

interface Program {
  machine: number;
  /** Machine code; `act` is the file offset of the sigaction struct, `handler` of the handler. */
  code(actAddr: bigint): { bytes: Buffer; handlerOffset: number };
}

const u32le = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};

// x86-64: syscall number in eax, arguments in edi, esi, edx, r10; `syscall` traps.
const X64: Program = {
  machine: 62, // EM_X86_64
  code(actAddr) {
    const act = Number(actAddr); // below 4 GiB: fits a 32-bit immediate
    const sigaction = (sig: number): Buffer =>
      Buffer.concat([
        Buffer.from([0xb8]), u32le(13), //        mov eax, 13        ; rt_sigaction
        Buffer.from([0xbf]), u32le(sig), //       mov edi, sig
        Buffer.from([0xbe]), u32le(act), //       mov esi, &act
        Buffer.from([0x31, 0xd2]), //             xor edx, edx       ; no old action
        Buffer.from([0x41, 0xba]), u32le(8), //   mov r10d, 8        ; sizeof(sigset_t)
        Buffer.from([0x0f, 0x05]), //             syscall
      ]);
    const loop = Buffer.concat([
      Buffer.from([0xb8]), u32le(34), //          mov eax, 34        ; pause
      Buffer.from([0x0f, 0x05]), //               syscall            ; returns after a handled signal
      Buffer.from([0xeb, 0xf7]), //               jmp -9             ; back to `mov eax, 34`
    ]);
    const handler = Buffer.concat([
      Buffer.from([0xb8]), u32le(60), //          mov eax, 60        ; exit
      Buffer.from([0x31, 0xff]), //               xor edi, edi       ; status 0
      Buffer.from([0x0f, 0x05]), //               syscall
    ]);
    const head = Buffer.concat([sigaction(SIGTERM), sigaction(SIGINT), loop]);
    return { bytes: Buffer.concat([head, handler]), handlerOffset: head.length };
  },
};

// AArch64: syscall number in x8, arguments in x0..x3, `svc #0` traps. Fixed 32-bit instructions.
const movz = (rd: number, imm16: number): number => 0xd2800000 | (imm16 << 5) | rd; // MOVZ Xd, #imm16
const SVC0 = 0xd4000001;
/** ADR Xd, pc+delta: delta split into immlo (bits 29-30) and immhi (bits 5-23). */
const adr = (rd: number, delta: number): number => (0x10000000 | ((delta & 3) << 29) | (((delta >> 2) & 0x7ffff) << 5) | rd) >>> 0;
/** B pc+delta (delta a multiple of 4, may be negative). */
const b = (delta: number): number => (0x14000000 | ((delta >> 2) & 0x3ffffff)) >>> 0;

const ARM64: Program = {
  machine: 183, // EM_AARCH64
  code(actAddr) {
    const words: number[] = [];
    const pc = (): bigint => BASE + BigInt(CODE_OFFSET + words.length * 4);
    for (const sig of [SIGTERM, SIGINT]) {
      words.push(movz(8, 134)); //                  rt_sigaction
      words.push(movz(0, sig));
      words.push(adr(1, Number(actAddr - pc()))); // x1 = &act
      words.push(movz(2, 0)); //                    no old action
      words.push(movz(3, 8)); //                    sizeof(sigset_t)
      words.push(SVC0);
    }
    const loop = words.length;
    words.push(movz(8, 73)); //                     ppoll(NULL, 0, NULL, NULL, 0): sleep until a signal
    for (let r = 0; r <= 4; r++) words.push(movz(r, 0));
    words.push(SVC0);
    words.push(b((loop - words.length) * 4));
    const handler = words.length;
    words.push(movz(8, 93)); //                     exit(0)
    words.push(movz(0, 0));
    words.push(SVC0);
    const bytes = Buffer.alloc(words.length * 4);
    words.forEach((w, i) => bytes.writeUInt32LE(w >>> 0, i * 4));
    return { bytes, handlerOffset: handler * 4 };
  },
};

/** The pause executable for `arch` (process.arch naming). */
export function buildPauseElf(arch: PauseArch = process.arch === 'arm64' ? 'arm64' : 'x64'): Buffer {
  const prog = arch === 'arm64' ? ARM64 : X64;
  // The code's length does not depend on the address it is given, so a first pass sizes it.
  const codeLen = prog.code(0n).bytes.length;
  const actOffset = CODE_OFFSET + Math.ceil(codeLen / 8) * 8; // 8-byte aligned struct
  const actAddr = BASE + BigInt(actOffset);
  const { bytes: code, handlerOffset } = prog.code(actAddr);
  const handlerAddr = BASE + BigInt(CODE_OFFSET + handlerOffset);

  // struct sigaction as the kernel reads it on both architectures:
  // { sa_handler; sa_flags; sa_restorer; sa_mask (64 bits) }.
  const act = Buffer.alloc(32);
  act.writeBigUInt64LE(handlerAddr, 0);
  act.writeBigUInt64LE(arch === 'x64' ? SA_RESTORER : 0n, 8);
  // The handler never returns (it calls exit), so the restorer is never used; x86-64 only
  // insists that one is named.
  act.writeBigUInt64LE(arch === 'x64' ? handlerAddr : 0n, 16);
  act.writeBigUInt64LE(0n, 24); // block nothing extra while the handler runs

  const fileSize = actOffset + act.length;
  const ehdr = Buffer.alloc(EHDR_SIZE);
  ehdr.write('\x7fELF', 0, 'latin1'); // e_ident[EI_MAG0..3]
  ehdr[4] = 2; //                        EI_CLASS: ELFCLASS64
  ehdr[5] = 1; //                        EI_DATA: little endian
  ehdr[6] = 1; //                        EI_VERSION: EV_CURRENT
  ehdr[7] = 0; //                        EI_OSABI: System V (bytes 8-15 are padding)
  ehdr.writeUInt16LE(2, 16); //          e_type: ET_EXEC (fixed address, no relocation)
  ehdr.writeUInt16LE(prog.machine, 18); // e_machine
  ehdr.writeUInt32LE(1, 20); //          e_version
  ehdr.writeBigUInt64LE(BASE + BigInt(CODE_OFFSET), 24); // e_entry: first instruction
  ehdr.writeBigUInt64LE(BigInt(EHDR_SIZE), 32); // e_phoff: program headers follow the header
  ehdr.writeBigUInt64LE(0n, 40); //      e_shoff: no section headers
  ehdr.writeUInt32LE(0, 48); //          e_flags
  ehdr.writeUInt16LE(EHDR_SIZE, 52); //  e_ehsize
  ehdr.writeUInt16LE(PHDR_SIZE, 54); //  e_phentsize
  ehdr.writeUInt16LE(1, 56); //          e_phnum
  ehdr.writeUInt16LE(64, 58); //         e_shentsize (unused with no sections)
  ehdr.writeUInt16LE(0, 60); //          e_shnum
  ehdr.writeUInt16LE(0, 62); //          e_shstrndx

  const phdr = Buffer.alloc(PHDR_SIZE);
  phdr.writeUInt32LE(1, 0); //           p_type: PT_LOAD
  phdr.writeUInt32LE(5, 4); //           p_flags: PF_R | PF_X
  phdr.writeBigUInt64LE(0n, 8); //       p_offset: map from the start of the file…
  phdr.writeBigUInt64LE(BASE, 16); //    p_vaddr: …at BASE
  phdr.writeBigUInt64LE(BASE, 24); //    p_paddr
  phdr.writeBigUInt64LE(BigInt(fileSize), 32); // p_filesz
  phdr.writeBigUInt64LE(BigInt(fileSize), 40); // p_memsz: no bss
  phdr.writeBigUInt64LE(0x1000n, 48); // p_align: page

  const pad = Buffer.alloc(actOffset - CODE_OFFSET - code.length);
  return Buffer.concat([ehdr, phdr, code, pad, act]);
}
