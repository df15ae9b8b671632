/** MIME type from the first bytes: what the file is, not what its sender declared. */
export function sniffMime(head: Buffer): string | null {
  const at = (o: number, sig: number[]) => sig.every((b, i) => head[o + i] === b);
  const ascii = (o: number, s: string) => head.length >= o + s.length && head.toString('latin1', o, o + s.length) === s;
  if (at(0, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (at(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'image/gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'image/webp';
  if (ascii(0, 'RIFF') && ascii(8, 'WAVE')) return 'audio/wav';
  if (ascii(4, 'ftyp')) {
    const brand = head.toString('latin1', 8, 12);
    if (/^(heic|heix|mif1)/.test(brand)) return 'image/heic';
    if (/^M4A/.test(brand)) return 'audio/mp4';
    if (/^qt/.test(brand)) return 'video/quicktime';
    if (/^3gp/.test(brand)) return 'video/3gpp';
    return 'video/mp4';
  }
  if (at(0, [0x1a, 0x45, 0xdf, 0xa3])) return 'video/webm';
  if (ascii(0, 'OggS')) return 'audio/ogg';
  if (ascii(0, 'ID3') || at(0, [0xff, 0xfb]) || at(0, [0xff, 0xf3]) || at(0, [0xff, 0xf2])) return 'audio/mpeg';
  if (ascii(0, '#!AMR')) return 'audio/amr';
  if (ascii(0, '%PDF-')) return 'application/pdf';
  if (at(0, [0x50, 0x4b, 0x03, 0x04])) return 'application/zip';
  if (head.length && !head.subarray(0, 512).some((b) => b === 0)) return 'text/plain';
  return null;
}
