/**
 * Loaded before every test file (vitest.config.ts, setupFiles). leakcheck changes a few of
 * mailauth's files as they load (src/verify/mailauth-patches.ts, after the joi stand-in), and a
 * file already loaded is left as it is. A test that imported mailauth itself (its signer, its
 * sealer) before the analysis code then ran the analysis on mailauth unpatched: not the code
 * users run, and a patch's test in such a file failed for that reason alone.
 */
import '../../src/verify/joi-stand-in.ts';
import '../../src/verify/mailauth-patches.ts';
