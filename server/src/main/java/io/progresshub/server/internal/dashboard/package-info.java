/**
 * Not API: may change or go at any time. The dashboard's files (the page, its scripts and the
 * JavaScript client), served from the classpath with their security headers. They need no token:
 * every figure the page shows comes from the authenticated API.
 */
package io.progresshub.server.internal.dashboard;
