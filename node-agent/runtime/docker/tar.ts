// Just enough of the POSIX ustar format to hand `docker import` a root file system built in
// memory: regular files and directories, names up to 100 bytes, no extended headers.

export interface TarEntry {
  name: string;
  /** File contents; absent for a directory. */
  data?: Buffer;
  mode: number;
}

const BLOCK = 512;

/** An octal number, zero-padded, in a field of `width` bytes ending with NUL (as GNU tar writes). */
function octal(header: Buffer, offset: number, width: number, value: number): void {
  header.write(value.toString(8).padStart(width - 1, '0') + '\0', offset, width, 'ascii');
}

/** One 512-byte ustar header. */
export function tarHeader(e: TarEntry, mtime = 0): Buffer {
  const h = Buffer.alloc(BLOCK);
  const dir = e.data === undefined;
  const name = dir && !e.name.endsWith('/') ? `${e.name}/` : e.name;
  if (Buffer.byteLength(name) > 100) throw new Error(`tar name too long: ${name}`);
  h.write(name, 0, 100, 'utf8'); //                 name
  octal(h, 100, 8, e.mode); //                     mode
  octal(h, 108, 8, 0); //                          uid: root
  octal(h, 116, 8, 0); //                          gid: root
  octal(h, 124, 12, dir ? 0 : e.data!.length); //  size
  octal(h, 136, 12, mtime); //                     mtime (seconds)
  h.write('        ', 148, 8, 'ascii'); //         chksum counts as spaces while summing
  h.write(dir ? '5' : '0', 156, 1, 'ascii'); //    typeflag: directory / regular file
  h.write('ustar\0', 257, 6, 'ascii'); //          magic
  h.write('00', 263, 2, 'ascii'); //               version
  h.write('root', 265, 32, 'ascii'); //            uname
  h.write('root', 297, 32, 'ascii'); //            gname
  let sum = 0;
  for (const byte of h) sum += byte;
  // Six octal digits, NUL, space: the traditional checksum layout every reader accepts.
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}

/** A complete archive: each header, its data padded to a block, then two zero blocks. */
export function buildTar(entries: TarEntry[], mtime = 0): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(tarHeader(e, mtime));
    if (e.data && e.data.length) {
      parts.push(e.data, Buffer.alloc((BLOCK - (e.data.length % BLOCK)) % BLOCK));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}
