/**
 * Entry of the script-tag build (`dist/runtime/hmf-runtime.min.js`): load it after
 * TF.js's own script tag and it registers the layers on the page's global `tf`; the
 * same functions are on the global `hmf` (e.g. `hmf.registerHmfLayers(tf)` for a
 * TF.js loaded later).
 */
import { registerHmfLayers, type TfModule } from './index.js';

export * from './index.js';

const page = globalThis as { tf?: TfModule };
if (page.tf) registerHmfLayers(page.tf);
