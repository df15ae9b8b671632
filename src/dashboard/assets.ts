/**
 * The dashboard's one script and one stylesheet, served by the app itself (no CDN, nothing
 * inline, so the CSP can forbid inline code). Each page area keeps its part in client/ and
 * styles/ as module text, so `tsc` ships them with the build without a copy step; they are joined
 * here in order, the script in strict mode.
 */
import { CORE_JS } from './client/core';
import { CASE_JS } from './client/case';
import { LIVE_LIST_JS } from './client/live-list';
import { LIST_JS } from './client/list';
import { BASE_CSS } from './styles/base';
import { CASE_CSS } from './styles/case';
import { LIST_CSS } from './styles/list';
import { OVERVIEW_CSS } from './styles/overview';
import { ADMIN_CSS } from './styles/admin';

const SCRIPTS: readonly string[] = [CORE_JS, LIVE_LIST_JS, LIST_JS, CASE_JS];
const STYLES: readonly string[] = [BASE_CSS, ADMIN_CSS, OVERVIEW_CSS, LIST_CSS, CASE_CSS];

export const DASHBOARD_JS = `'use strict';\n${SCRIPTS.join('\n')}`;
export const DASHBOARD_CSS = STYLES.join('\n');
