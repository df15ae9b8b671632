/**
 * The dashboard's one script and one stylesheet, served by the app itself (no CDN, nothing
 * inline, so the CSP can forbid inline code). Each page area keeps its part in client/ and
 * styles/ as module text, so `tsc` ships them with the build without a copy step; they are joined
 * here in order, the script in strict mode.
 */
import { CORE_JS } from './client/core';
import { LIVE_LIST_JS } from './client/live-list';
import { BASE_CSS } from './styles/base';

const SCRIPTS: readonly string[] = [CORE_JS, LIVE_LIST_JS];
const STYLES: readonly string[] = [BASE_CSS];

export const DASHBOARD_JS = `'use strict';\n${SCRIPTS.join('\n')}`;
export const DASHBOARD_CSS = STYLES.join('\n');
