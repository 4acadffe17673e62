// Reads the headers of native binaries (ELF, Mach-O, PE): which OS and CPU a file is built for, the
// libraries it links at load time and where it looks for them. Enough to tell, without the platform at
// hand, whether a .vsix carries the right binaries and everything they load.
export type BinaryFormat = 'elf' | 'macho' | 'pe';

export interface BinaryInfo {
  format: BinaryFormat;
  /** VS Code's OS name: linux, darwin, win32. */
  os: 'linux' | 'darwin' | 'win32';
  /** VS Code's CPU name (x64, arm64) or the raw machine number when it is neither. */
  cpu: string;
  /** Libraries loaded with the binary (ELF DT_NEEDED, Mach-O LC_LOAD_DYLIB, PE imports; not delay-loaded ones). */
  needs: string[];
  /** Where they are searched besides the system (ELF RPATH/RUNPATH, Mach-O LC_RPATH). */
  searchPaths: string[];
}

const cString = (buf: Buffer, at: number): string => buf.toString('latin1', at, buf.indexOf(0, at));

function readElf(buf: Buffer): BinaryInfo {
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error('only 64-bit little-endian ELF is expected');
  const machine = buf.readUInt16LE(18);
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  const segments = Array.from({ length: phnum }, (_, i) => {
    const at = phoff + i * phentsize;
    return {
      type: buf.readUInt32LE(at),
      offset: Number(buf.readBigUInt64LE(at + 8)),
      vaddr: Number(buf.readBigUInt64LE(at + 16)),
      filesz: Number(buf.readBigUInt64LE(at + 32)),
    };
  });
  const fileOffset = (vaddr: number): number => {
    const load = segments.find((s) => s.type === 1 && vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz);
    if (!load) throw new Error(`ELF address 0x${vaddr.toString(16)} is in no loaded segment`);
    return vaddr - load.vaddr + load.offset;
  };
  const dynamic = segments.find((s) => s.type === 2);
  const entries: Array<[number, number]> = [];
  for (let at = dynamic?.offset ?? 0; dynamic && at < dynamic.offset + dynamic.filesz; at += 16) {
    const tag = Number(buf.readBigInt64LE(at));
    if (tag === 0) break;
    entries.push([tag, Number(buf.readBigUInt64LE(at + 8))]);
  }
  const strtab = entries.find(([t]) => t === 5);
  const strings = (tag: number) =>
    strtab ? entries.filter(([t]) => t === tag).map(([, v]) => cString(buf, fileOffset(strtab[1]) + v)) : [];
  return {
    format: 'elf',
    os: 'linux',
    cpu: ({ 0x3e: 'x64', 0xb7: 'arm64' } as Record<number, string>)[machine] ?? `elf-machine-${machine}`,
    needs: strings(1),
    searchPaths: [...strings(15), ...strings(29)].flatMap((p) => p.split(':')),
  };
}

function readMachO(buf: Buffer): BinaryInfo {
  const cputype = buf.readUInt32LE(4);
  const ncmds = buf.readUInt32LE(16);
  const needs: string[] = [];
  const searchPaths: string[] = [];
  for (let i = 0, at = 32; i < ncmds; i++) {
    const cmd = buf.readUInt32LE(at);
    const size = buf.readUInt32LE(at + 4);
    // LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB; LC_RPATH
    if (cmd === 0xc || cmd === 0x80000018 || cmd === 0x8000001f)
      needs.push(cString(buf, at + buf.readUInt32LE(at + 8)));
    if (cmd === 0x8000001c) searchPaths.push(cString(buf, at + buf.readUInt32LE(at + 8)));
    at += size;
  }
  return {
    format: 'macho',
    os: 'darwin',
    cpu: ({ 0x01000007: 'x64', 0x0100000c: 'arm64' } as Record<number, string>)[cputype] ?? `macho-cpu-${cputype}`,
    needs,
    searchPaths,
  };
}

function readPe(buf: Buffer): BinaryInfo {
  const pe = buf.readUInt32LE(0x3c);
  if (buf.toString('latin1', pe, pe + 4) !== 'PE\0\0') throw new Error('no PE signature');
  const machine = buf.readUInt16LE(pe + 4);
  const sections = buf.readUInt16LE(pe + 6);
  const optionalSize = buf.readUInt16LE(pe + 20);
  const optional = pe + 24;
  const dataDirectories = optional + (buf.readUInt16LE(optional) === 0x20b ? 112 : 96);
  const table = Array.from({ length: sections }, (_, i) => {
    const at = optional + optionalSize + i * 40;
    return {
      va: buf.readUInt32LE(at + 12),
      size: Math.max(buf.readUInt32LE(at + 8), buf.readUInt32LE(at + 16)),
      raw: buf.readUInt32LE(at + 20),
    };
  });
  const fileOffset = (rva: number): number => {
    const s = table.find((t) => rva >= t.va && rva < t.va + t.size);
    if (!s) throw new Error(`PE address 0x${rva.toString(16)} is in no section`);
    return rva - s.va + s.raw;
  };
  // The import directory (data directory 1): 20-byte descriptors, the DLL name's address at +12.
  const needs: string[] = [];
  const imports = buf.readUInt32LE(dataDirectories + 8);
  for (let at = imports ? fileOffset(imports) : -1; at >= 0; at += 20) {
    const name = buf.readUInt32LE(at + 12);
    if (name === 0) break;
    needs.push(cString(buf, fileOffset(name)));
  }
  return {
    format: 'pe',
    os: 'win32',
    cpu: ({ 0x8664: 'x64', 0xaa64: 'arm64' } as Record<number, string>)[machine] ?? `pe-machine-${machine}`,
    needs,
    searchPaths: [],
  };
}

/** The binary's description, or undefined when `buf` is not a native binary. */
export function readBinary(buf: Buffer): BinaryInfo | undefined {
  if (buf.length < 64) return undefined;
  if (buf.readUInt32BE(0) === 0x7f454c46) return readElf(buf);
  if (buf.readUInt32LE(0) === 0xfeedfacf) return readMachO(buf);
  if (buf.readUInt32BE(0) === 0xcafebabe)
    throw new Error('universal Mach-O binary: a per-target package should carry one architecture');
  if (buf.toString('latin1', 0, 2) === 'MZ') return readPe(buf);
  return undefined;
}

// Libraries every machine of the OS has (C/C++ runtimes, the OS API): not expected in the package.
const SYSTEM_LIBRARIES: Record<BinaryInfo['os'], RegExp> = {
  linux: /^(libc|libm|libdl|libpthread|librt|libresolv|libutil|libstdc\+\+|libgcc_s|ld-linux[-\w]*)\.so(\.\d+)*$/,
  darwin: /^\/(usr\/lib|System\/Library)\//,
  win32:
    /^(api-ms-win-[\w-]+|ext-ms-win-[\w-]+|kernel32|user32|advapi32|shell32|ole32|oleaut32|gdi32|ntdll|ws2_32|bcrypt|bcryptprimitives|crypt32|setupapi|dbghelp|shlwapi|iphlpapi|dnsapi|version|winmm|msvcp\w+|vcruntime\w+|ucrtbase|node)\.(dll|exe)$/i,
};

export const isSystemLibrary = (os: BinaryInfo['os'], name: string): boolean => SYSTEM_LIBRARIES[os].test(name);

/**
 * The folders (relative to the package root, '/'-separated) where the loader looks for a library
 * `name` needed by the binary at `binaryPath`: its RPATH/RUNPATH ($ORIGIN) or LC_RPATH (@loader_path)
 * entries, and for PE the binary's own folder (Node loads addons with LOAD_WITH_ALTERED_SEARCH_PATH).
 */
export function candidatePaths(info: BinaryInfo, binaryPath: string, name: string): string[] {
  const dir = binaryPath.split('/').slice(0, -1).join('/');
  const join = (base: string, rel: string) => {
    const parts: string[] = [];
    for (const p of `${base}/${rel}`.split('/')) {
      if (p === '..') parts.pop();
      else if (p && p !== '.') parts.push(p);
    }
    return parts.join('/');
  };
  if (info.format === 'pe') return [join(dir, name)];
  if (info.format === 'elf') {
    const paths = info.searchPaths
      .filter((p) => p.startsWith('$ORIGIN'))
      .map((p) => join(dir, p.replace('$ORIGIN', '.')));
    return name.includes('/') ? [join(dir, name)] : paths.map((p) => join(p, name));
  }
  if (name.startsWith('@loader_path/')) return [join(dir, name.slice('@loader_path/'.length))];
  if (name.startsWith('@rpath/')) {
    return info.searchPaths
      .filter((p) => p.startsWith('@loader_path'))
      .map((p) => join(join(dir, p.replace('@loader_path', '.')), name.slice('@rpath/'.length)));
  }
  return [];
}
