package io.progresshub.cli;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * A config file in Java properties syntax with the kebab-case keys of {@link Setting}:
 *
 * <pre>
 * port = 9000
 * retention = 7d
 * </pre>
 *
 * @param name where it came from, for error messages
 * @param values its entries, keys already checked against {@link Setting}
 */
record ConfigFile(String name, Map<String, String> values) {

  ConfigFile {
    values = Map.copyOf(values);
  }

  static ConfigFile none() {
    return new ConfigFile("(no config file)", Map.of());
  }

  /** Reads and checks the file at {@code path}. */
  static ConfigFile read(Path path) {
    String contents;
    try {
      contents = Files.readString(path);
    } catch (NoSuchFileException e) {
      throw new SettingsException("config file " + path + ": no such file");
    } catch (CharacterCodingException e) {
      throw new SettingsException("config file " + path + ": not valid UTF-8", e);
    } catch (IOException e) {
      throw new SettingsException("config file " + path + ": cannot be read: " + e, e);
    }
    return parse(path.toString(), contents);
  }

  /**
   * Parses {@code contents}; an unknown key is an error, so that a typo is not silently ignored.
   */
  static ConfigFile parse(String name, String contents) {
    Properties properties = new Properties();
    try {
      properties.load(new StringReader(contents));
    } catch (IOException | IllegalArgumentException e) {
      throw new SettingsException("config file " + name + ": not a properties file: " + e, e);
    }
    Map<String, String> values = new LinkedHashMap<>();
    for (String key : properties.stringPropertyNames()) {
      if (Setting.ofKey(key).isEmpty()) {
        throw new SettingsException(
            "config file "
                + name
                + ": unknown key \""
                + key
                + "\" (expected one of: "
                + Arrays.stream(Setting.values())
                    .map(Setting::key)
                    .collect(Collectors.joining(", "))
                + ")");
      }
      values.put(key, properties.getProperty(key));
    }
    return new ConfigFile(name, values);
  }

  Optional<String> value(Setting setting) {
    return Optional.ofNullable(values.get(setting.key()));
  }
}
