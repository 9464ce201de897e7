/**
 * The {@code progress-hub} command: its subcommands ({@code serve}, {@code token}, ...), the
 * settings they read from flags, environment and config file (each checked once, with where it came
 * from), and the assembly of store, hub and server that {@code serve} runs.
 */
package io.progresshub.cli;
