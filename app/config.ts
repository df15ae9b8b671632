/**
 * The configuration as the hub runs it: the core's (src/config) with every registered channel's
 * section and variables (adapters/registry.ts). Commands, benchmarks and tests load it here.
 */
import { describeConfig as describeWith, loadConfig as loadWith, type Config, type LoadOptions } from '../src/config';
import { channelModules } from '../adapters/registry';

export type { Config } from '../src/config';

export function loadConfig(opts: Omit<LoadOptions, 'channels'> = {}): Readonly<Config> {
  return loadWith({ ...opts, channels: channelModules });
}

/** For `tiphub config check`: secrets masked, each channel as its module describes it. */
export function describeConfig(cfg: Readonly<Config>): Record<string, unknown> {
  return describeWith(cfg, channelModules);
}
