package io.progresshub.cli;

/**
 * A setting, flag or file the user gave is unusable. The message names the setting, the bad value
 * and what was expected; the command exits with status 2.
 */
final class SettingsException extends RuntimeException {

  SettingsException(String message) {
    super(message);
  }

  SettingsException(String message, Throwable cause) {
    super(message, cause);
  }
}
