package io.progresshub.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Self-signed certificates for {@code localhost} and {@code 127.0.0.1}, made by the {@code openssl}
 * command as an operator would, and clients that trust exactly them.
 */
final class TestCertificates {
  private TestCertificates() {}

  /** A certificate and its PKCS#8 key as PEM files. */
  record Pem(Path cert, Path key) {
    X509Certificate certificate() {
      try (InputStream in = Files.newInputStream(cert)) {
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }

    /** A client TLS context that trusts this certificate only. */
    SSLContext trustingIt() {
      try {
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        trusted.load(null, null);
        trusted.setCertificateEntry("server", certificate());
        TrustManagerFactory trust =
            TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /**
   * A new EC P-256 key and self-signed certificate named {@code name} in {@code dir}: {@code
   * name.crt} and {@code name.key}.
   */
  static Pem generate(Path dir, String name) {
    Path cert = dir.resolve(name + ".crt");
    Path key = dir.resolve(name + ".key");
    openssl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=" + name,
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout",
        key.toString(),
        "-out",
        cert.toString());
    return new Pem(cert, key);
  }

  /** Puts {@code source}'s files in place of {@code target}'s, each by an atomic rename. */
  static void replace(Pem target, Pem source) throws IOException {
    Path keyCopy = Files.copy(source.key(), target.key().resolveSibling("new.key.tmp"));
    Path certCopy = Files.copy(source.cert(), target.cert().resolveSibling("new.crt.tmp"));
    Files.move(keyCopy, target.key(), StandardCopyOption.ATOMIC_MOVE);
    Files.move(certCopy, target.cert(), StandardCopyOption.ATOMIC_MOVE);
  }

  /** Runs {@code openssl} with {@code args}; returns its exit code and combined output. */
  static Result run(String... args) {
    List<String> command = new ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    try {
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
              .start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("openssl did not finish: " + command);
      }
      return new Result(process.exitValue(), output);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  record Result(int exitCode, String output) {}

  private static void openssl(String... args) {
    Result result = run(args);
    if (result.exitCode() != 0) {
      throw new IllegalStateException("openssl " + String.join(" ", args) + ":\n" + result);
    }
  }
}
