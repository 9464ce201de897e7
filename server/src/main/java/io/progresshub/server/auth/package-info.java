/**
 * Who a caller is: JWT verification (HS256, and RS256/ES256 from a JWKS endpoint), token minting
 * for the command line, and the {@link io.progresshub.server.auth.Authenticator} the transports
 * ask.
 */
package io.progresshub.server.auth;
