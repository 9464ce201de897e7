package io.progresshub.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JwtSecretsTest {

  @TempDir Path dir;

  private Settings settings(Path dataDir, Map<String, String> env) {
    return new SettingsLoader(Map.of(Setting.DATA_DIR, dataDir.toString()), env, ConfigFile.none())
        .load();
  }

  @Test
  void firstStartGeneratesAnOwnerOnlySecretInTheDataDirectory() throws Exception {
    Path dataDir = dir.resolve("not/yet/there");

    JwtSecrets.Secret secret = JwtSecrets.loadOrCreate(settings(dataDir, Map.of()));

    Path file = dataDir.resolve("jwt-secret");
    assertThat(Files.readString(file).strip()).isEqualTo(secret.text());
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(Base64.getUrlDecoder().decode(secret.text())).hasSize(32);
    assertThat(secret.key()).isEqualTo(secret.text().getBytes(StandardCharsets.US_ASCII));
    try (var files = Files.list(dataDir)) {
      assertThat(files).containsExactly(file); // no temporary file left behind
    }
  }

  @Test
  void laterStartsReuseTheStoredSecret() {
    Settings settings = settings(dir, Map.of());
    String first = JwtSecrets.loadOrCreate(settings).text();

    assertThat(JwtSecrets.loadOrCreate(settings).text()).isEqualTo(first);
    assertThat(JwtSecrets.load(settings).orElseThrow().text()).isEqualTo(first);
  }

  @Test
  void eachDataDirectoryGetsItsOwnSecret() {
    String a = JwtSecrets.loadOrCreate(settings(dir.resolve("a"), Map.of())).text();
    String b = JwtSecrets.loadOrCreate(settings(dir.resolve("b"), Map.of())).text();
    assertThat(a).isNotEqualTo(b);
  }

  @Test
  void configuredSecretWinsAndNothingIsWritten() {
    String configured = "configured-secret-configured-secret!";
    Settings settings = settings(dir, Map.of("PROGRESS_HUB_JWT_SECRET", configured));

    JwtSecrets.Secret secret = JwtSecrets.loadOrCreate(settings);

    assertThat(secret.text()).isEqualTo(configured);
    assertThat(secret.toString()).doesNotContain(configured);
    assertThat(dir.resolve("jwt-secret")).doesNotExist();
  }

  @Test
  void loadFindsNothingBeforeTheFirstStart() {
    assertThat(JwtSecrets.load(settings(dir, Map.of()))).isEmpty();
    assertThat(dir.resolve("jwt-secret")).doesNotExist();
  }

  @Test
  void tooShortStoredSecretIsAnErrorNamingTheFile() throws Exception {
    Files.writeString(dir.resolve("jwt-secret"), "short\n");

    assertThatThrownBy(() -> JwtSecrets.loadOrCreate(settings(dir, Map.of())))
        .isInstanceOf(SettingsException.class)
        .hasMessageStartingWith(dir.resolve("jwt-secret") + ": the JWT secret is 5 bytes")
        .hasMessageNotContaining("short\n");
  }
}
