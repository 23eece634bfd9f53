import type { Command } from 'commander';

/** Environment variables, each listed only under the commands it changes. */
const ENVIRONMENT: Record<string, string> = {
  HMF_WASM_THREADS: `HMF_WASM_THREADS=n     threads of the wasm backend (default: one per core, at most 4;
                         1 = the single-threaded build)`,
  HMF_LATENCY_THREADS: `HMF_LATENCY_THREADS=n  threads latency is timed on (default: 1, as stock TF.js runs
                         wasm in Node and in browsers that are not cross-origin isolated)`,
  HMF_CHROMIUM: `HMF_CHROMIUM=path      Chromium for --browser / --bench-browser (default: /usr/bin/chromium,
                         Debian's package, or chromium-browser / google-chrome)`,
  HMF_LATENCY_CACHE: `HMF_LATENCY_CACHE=off  time the planner's layer micro-benchmarks afresh (default: kept in
                         $HMF_CACHE/latency.json or ~/.cache/hmf/, so a command plans alike on
                         this machine); =<file> to keep them there`,
};

/** Per command: the variables that change what it does, and examples to copy. Add a command's entry with the command. */
export const COMMAND_HELP: Record<string, { environment: (keyof typeof ENVIRONMENT)[]; examples: string[] }> = {
  hmf: {
    environment: ['HMF_WASM_THREADS', 'HMF_LATENCY_THREADS'],
    examples: [
      'hmf compress model.json                      # HMF at factor 4 into <folder>-hmf-x4/, report on the terminal',
      'hmf inspect model.json                       # what would be compressed, and how much each factor keeps',
      'hmf compress --help                          # every flag of a command',
    ],
  },
  compress: {
    environment: ['HMF_WASM_THREADS', 'HMF_LATENCY_THREADS', 'HMF_LATENCY_CACHE', 'HMF_CHROMIUM'],
    examples: [
      'hmf compress model.json                      # HMF x4 into <model folder>-hmf-x4/ beside it',
      'hmf compress model.json -f auto --min-agreement 0.95',
      '                                             # the largest factor whose top-1 agreement stays >= 95%',
      'hmf compress model.json --objective size     # the factor at the best fidelity, latency not considered',
      'hmf compress model.json -m lmf -f 8 -o small # low-rank x8 into small/',
      'hmf compress model.json --json > report.json # CI: the report as JSON on stdout (errors too)',
      'hmf compress model.json --calibration data.json --max-error 0.05',
      '                                             # fit to real inputs; exit 5 if the output error is above 0.05',
      'hmf compress model.json --portable --quantize float16',
      '                                             # stock TF.js layers only, weights stored as float16',
      'hmf compress model.json --bench-browser --report report.html',
      '                                             # also timed in headless Chromium; one HTML page with plots',
    ],
  },
  sweep: {
    environment: ['HMF_WASM_THREADS', 'HMF_LATENCY_THREADS', 'HMF_LATENCY_CACHE'],
    examples: [
      'hmf sweep model.json                         # hmf, lmf, prune at x2, 4, 8, 16; plot in <model folder>-sweep.svg',
      'hmf sweep model.json --methods hmf,lmf --factors 2,4,8 --eval test.json --report sweep.md',
    ],
  },
  inspect: {
    environment: ['HMF_WASM_THREADS'],
    examples: ['hmf inspect model.json', 'hmf inspect model.json --min-params 1024 --json'],
  },
  bench: {
    environment: ['HMF_LATENCY_THREADS', 'HMF_CHROMIUM'],
    examples: [
      'hmf bench model.json',
      'hmf bench original/model.json --vs original-hmf-x4/model.json --runs 100',
      'hmf bench model.json --batch 1,8,64 --json',
      'hmf bench original/model.json --vs original-hmf-x4/model.json --browser   # also in Chromium (wasm, webgl)',
    ],
  },
  eval: {
    environment: ['HMF_WASM_THREADS'],
    examples: [
      'hmf eval model.json --data test.json',
      'hmf eval small/model.json --data test.json --reference model.json   # also the agreement with the original',
    ],
  },
};

const EXIT_CODES = `
Exit codes:
  0 ok, 1 internal error, 2 bad usage or data file, 3 model unreadable or invalid,
  4 factor unreachable, 5 quality gate failed, 130/143 stopped by SIGINT/SIGTERM.
  With --json a failure also prints {"error": {"type", "message", "exitCode"}} on stdout.`;

/** Appends the Examples and Environment sections of `name` to a command's help (and the exit codes to the program's). */
export function addCommandHelp(command: Command, name: string): void {
  const help = COMMAND_HELP[name];
  if (!help) return;
  const sections = [`\nExamples:\n${help.examples.map((e) => `  ${e}`).join('\n')}`];
  if (help.environment.length) sections.push(`\nEnvironment:\n${help.environment.map((v) => `  ${ENVIRONMENT[v]}`).join('\n')}`);
  if (name === 'hmf') sections.push(EXIT_CODES);
  command.addHelpText('after', sections.join('\n'));
}

/**
 * Defaults shown alike everywhere, as commander shows a described default, "(default: 4)":
 * not quoted as strings ("4" came from the flags being strings).
 */
export function plainDefaults(command: Command): void {
  for (const option of command.options) {
    if (typeof option.defaultValue === 'string' && option.defaultValueDescription === undefined) option.defaultValueDescription = option.defaultValue;
  }
}
