import { csvCell } from '../../src/caselog/export';

describe('CSV export: cells a spreadsheet would run as a formula get a leading apostrophe', () => {
  test.each([
    ['=1+1', "'=1+1"],
    ['  =HYPERLINK("http://x")', `"'  =HYPERLINK(""http://x"")"`],
    [' \u00a0+CMD', "' \u00a0+CMD"],
    ['\u200b@SUM(A1)', "'\u200b@SUM(A1)"],
    ['\n=1', `"'\n=1"`],
    ['\uFF1D1+1', "'\uFF1D1+1"],
    ['\uFF0B9647701', "'\uFF0B9647701"],
    ['\uFF0D2', "'\uFF0D2"],
    ['\uFF20A1', "'\uFF20A1"],
    ['   \uFF1DA1', "'   \uFF1DA1"],
    ['\uFE66A1', "'\uFE66A1"],
  ])('%j', (input, expected) => {
    expect(csvCell(input)).toBe(expected);
  });

  test('ordinary text, also with = inside or after a letter, is left alone', () => {
    expect(csvCell('a = b')).toBe('a = b');
    expect(csvCell('  drone over the road')).toBe('  drone over the road');
    expect(csvCell('طائرة مسيرة فوق الطريق')).toBe('طائرة مسيرة فوق الطريق');
    expect(csvCell('')).toBe('');
  });
});
