import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from './latency-histogram.js';

describe('LatencyHistogram', () => {
  it('puts a value equal to a bound in that bucket, above the last bound in +Inf, and renders cumulative counts', () => {
    const h = new LatencyHistogram('x_seconds', 'help', [0.001, 0.01], 'op');
    h.observe(0.001, 'a');
    h.observe(0.0010001, 'a');
    h.observe(5, 'a');
    h.observe(0, 'b');
    expect(h.render()).toBe(
      [
        '# HELP x_seconds help',
        '# TYPE x_seconds histogram',
        'x_seconds_bucket{op="a",le="0.001"} 1',
        'x_seconds_bucket{op="a",le="0.01"} 2',
        'x_seconds_bucket{op="a",le="+Inf"} 3',
        `x_seconds_sum{op="a"} ${0.001 + 0.0010001 + 5}`,
        'x_seconds_count{op="a"} 3',
        'x_seconds_bucket{op="b",le="0.001"} 1',
        'x_seconds_bucket{op="b",le="0.01"} 1',
        'x_seconds_bucket{op="b",le="+Inf"} 1',
        'x_seconds_sum{op="b"} 0',
        'x_seconds_count{op="b"} 1',
        '',
      ].join('\n'),
    );
  });

  it('shows an unlabelled histogram from the start, and escapes label values', () => {
    expect(new LatencyHistogram('y', 'h', [1]).render()).toContain('y_bucket{le="+Inf"} 0\ny_sum 0\ny_count 0\n');
    const h = new LatencyHistogram('z', 'h', [1], 'op');
    expect(h.render()).toBe('# HELP z h\n# TYPE z histogram\n');
    h.observe(0.5, 'a"b\\c\nd');
    expect(h.render()).toContain('z_count{op="a\\"b\\\\c\\nd"} 1');
  });

  it('rejects bounds that do not ascend', () => {
    expect(() => new LatencyHistogram('w', 'h', [1, 1])).toThrow(RangeError);
    expect(() => new LatencyHistogram('w', 'h', [2, 1])).toThrow(RangeError);
  });
});
