/**
 * Text a DWS API (or whoever controls a task's log) could send, aimed at a
 * page that shows it: each one sets window.__pwned if it ever runs.
 */
export const HOSTILE_TEXT = [
  '</script><script>window.__pwned=1</script>',
  '<img src=x onerror="window.__pwned=1">',
  '"><svg onload=window.__pwned=1>',
  "' onmouseover='window.__pwned=1' x='",
  ']]><script>window.__pwned=1</script><![CDATA[',
  '</title></text></svg><style>body{display:none}</style>',
  '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
  'step 1\\u0000step 2 \u001b[31m red',
  '\u202Egnp.exe\u202C مرحبا שלום',
  'x'.repeat(5000),
] as const;

export function hostileText(i: number): string {
  return HOSTILE_TEXT[i % HOSTILE_TEXT.length] ?? '';
}
