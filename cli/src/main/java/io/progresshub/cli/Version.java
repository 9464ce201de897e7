package io.progresshub.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** The version this jar was built as (the Maven project version). */
final class Version implements IVersionProvider {

  private static final String RESOURCE = "version.properties";

  static String current() {
    try (InputStream in = Version.class.getResourceAsStream(RESOURCE)) {
      if (in != null) {
        Properties properties = new Properties();
        properties.load(in);
        String version = properties.getProperty("version", "");
        if (!version.isBlank() && !version.startsWith("${")) {
          return version;
        }
      }
    } catch (IOException e) {
      // fall through: a build without the filtered resource
    }
    return "unknown";
  }

  @Override
  public String[] getVersion() {
    return new String[] {"progress-hub " + current()};
  }
}
