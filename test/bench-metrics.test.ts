/** The bench's reading of /metrics: one camera's labelled series are the service's figures. */
import { describe, expect, test } from 'vitest';
import { parsePrometheusText } from '../bench/lib/metrics.js';

describe('parsePrometheusText', () => {
  test('reads plain series, sums series labelled only by camera, skips others', () => {
    const text = [
      '# HELP camstream_llhls_bytes_held Bytes held.',
      '# TYPE camstream_llhls_bytes_held gauge',
      'camstream_llhls_bytes_held{camera="cam1"} 1000',
      'camstream_llhls_bytes_held{camera="cam2"} 24',
      'camstream_process_open_fds 31',
      'camstream_part_seconds_bucket{camera="cam1",le="0.1"} 7',
      'camstream_nodejs_heap_size_used_bytes NaN',
    ].join('\n');
    expect(parsePrometheusText(text)).toEqual({
      camstream_llhls_bytes_held: 1024,
      camstream_process_open_fds: 31,
    });
  });
});
