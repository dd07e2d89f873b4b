/** Types for parse-prometheus-text-format (the package ships none): what the check tests read. */
declare module 'parse-prometheus-text-format' {
  interface Metric {
    value?: string;
    labels?: Record<string, string>;
    timestamp_ms?: string;
  }
  interface MetricFamily {
    name: string;
    help: string;
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    metrics: Metric[];
  }
  export default function parse(text: string): MetricFamily[];
}
