import type { Report } from './schema.js';
import { plainStyle, type Style } from './format.js';
import { PLAN_BENCH_SECONDS } from '../plan/latency.js';

/** The planner's decisions as report lines: allocation, the cost model's check, layers changed for speed, HMF vs LMF. */
export function planLines(report: Report, style: Style = plainStyle): string[] {
  const plan = report.plan;
  if (!plan) return [];
  const out: string[] = [];
  const o = report.options;
  if (report.auto) {
    const tried = report.auto.tried.map((t) => `x${t.factor} ${t.passed ? 'passes' : `fails (${t.reason})`}`).join('; ');
    out.push(`factor auto      x${report.auto.chosen}, the largest of ${report.auto.factors.map((f) => `x${f}`).join(' ')} that passes: ${tried}`);
  }
  const objective = { balanced: 'best fidelity, never slower than the original', size: 'best fidelity, latency not considered', latency: 'fastest' }[plan.objective];
  const spread = plan.allocate === 'uniform' ? 'the same factor for every matrix' : plan.objective === 'latency' ? 'budget spread where it adds the least time' : 'budget spread where it costs the output least';
  out.push(`plan             ${spread} (--allocate ${plan.allocate}), objective ${plan.objective}: ${objective}`);
  const s = plan.sensitivity;
  if (s) {
    const ranked = [...s.matrices].sort((a, b) => b.value - a.value);
    const most = ranked[0];
    const least = ranked[ranked.length - 1];
    out.push(
      style.dim(
        `  sensitivity on ${s.examples} ${report.calibration ? 'calibration examples' : 'generated probes'}: ${most.weight} most (${most.value.toExponential(1)}), ` +
          `${least.weight} least (${least.value.toExponential(1)}); predicted output error ${s.predictedOutputError.toFixed(3)}, measured ${s.measuredOutputError.toFixed(3)}`,
      ),
    );
  }
  const check = plan.allocationCheck;
  if (check) {
    const verdict = check.used === 'global' ? 'global used' : 'uniform used: the global allocation did worse on the whole model';
    out.push((check.used === 'global' ? style.dim : style.warn)(`  allocation checked with every matrix replaced at once: output error ${check.global.toFixed(3)} global, ${check.uniform.toFixed(3)} uniform; ${verdict}`));
  }
  for (const l of plan.latency) {
    if (l.action === 'kept') continue;
    out.push(style.warn(`  for speed: ${l.layer}: ${l.action}`));
  }
  if (plan.latency.length) {
    const kept = plan.latency.filter((l) => l.action === 'kept').length;
    const b = plan.batches;
    const timed = plan.benchmarks.count ? `${plan.benchmarks.count} micro-benchmarks (${plan.benchmarks.seconds.toFixed(1)} s)` : 'micro-benchmarks from the latency cache';
    out.push(style.dim(`  layers timed against dense at batch ${b.join(' and ')}, ${timed}: ${kept} of ${plan.latency.length} as planned`));
    if (plan.benchmarks.untimed) {
      const layers = plan.latency.filter((l) => l.batches.some((x) => x.verdict === 'not timed')).length;
      out.push(style.warn(`  ${layers} smaller layer${layers === 1 ? '' : 's'} not timed: the planning budget of ${PLAN_BENCH_SECONDS} s of micro-benchmarks was spent on the bigger ones; planned without latency, the measured latency below covers the whole model`));
    }
  }
  const predicted = plan.predictedLatency.filter((p) => p.compressedMs > 0);
  if (predicted.length) {
    out.push(style.dim(`  predicted speedup ${predicted.map((p) => `${(p.originalMs / p.compressedMs).toFixed(2)}x at batch ${p.batch}`).join(', ')}${report.latency ? ' (measured below)' : ''}`));
  }
  for (const note of plan.notes ?? []) out.push(style.warn(`  ${note}`));
  if (plan.identicalToLmf && o.method === 'hmf') out.push(style.warn(`  identical to LMF: no matrix kept dense outputs (${plan.identicalToLmf})`));
  return out;
}
