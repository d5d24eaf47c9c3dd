/** Replaces (or appends) the `## <title>` section of docs/benchmarks.md. */
export function updateBenchmarkSection(title: string, body: string): void
