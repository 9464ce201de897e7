package io.progresshub.server.internal;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.progresshub.server.TlsConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Collection;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's TLS context, built from the PEM files of a {@link TlsConfig} and rebuilt when they
 * change. BoringSSL (netty-tcnative) when its native library loads, the JDK's TLS otherwise; TLS
 * 1.2 and 1.3 only.
 *
 * <p>A reload that fails (a file half-written, a key that does not belong to the certificate, as
 * between the two renames of a renewal) keeps the context that works and is retried once the files
 * change again: a bad renewal must not take the port down.
 */
public final class TlsCertificates {
  private static final Logger LOG = LoggerFactory.getLogger(TlsCertificates.class);

  /** Older versions have known weaknesses and no browser needs them. */
  private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  private static final Pattern PKCS8 =
      Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

  private final TlsConfig config;
  private final SslProvider provider;
  private volatile SslContext current;
  private Stamp loaded; // the files as they were when current was built
  private Stamp refused; // the files as they were when a reload last failed

  private TlsCertificates(TlsConfig config, SslProvider provider, Stamp loaded, SslContext first) {
    this.config = config;
    this.provider = provider;
    this.loaded = loaded;
    this.current = first;
  }

  /**
   * Reads and checks the files.
   *
   * @throws IllegalArgumentException naming the file and what is wrong with it
   */
  public static TlsCertificates load(TlsConfig config) {
    SslProvider provider = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    if (provider == SslProvider.JDK) {
      LOG.info(
          "TLS through the JDK: netty-tcnative is not usable ({})", OpenSsl.unavailabilityCause());
    }
    Stamp stamp = Stamp.of(config);
    return new TlsCertificates(config, provider, stamp, build(config, provider));
  }

  /** Which TLS implementation serves: {@code OPENSSL} (BoringSSL) or {@code JDK}. */
  public SslProvider provider() {
    return provider;
  }

  public TlsConfig config() {
    return config;
  }

  /** The TLS handler for a new connection, with the certificate loaded last. */
  public SslHandler newHandler(ByteBufAllocator alloc, Duration handshakeTimeout) {
    SslHandler handler = current.newHandler(alloc);
    handler.setHandshakeTimeoutMillis(handshakeTimeout.toMillis());
    return handler;
  }

  /**
   * Rebuilds the context if either file's modification time or size changed since it was built.
   * Costs two {@code stat} calls when nothing changed.
   */
  public synchronized void reloadIfChanged() {
    Stamp now;
    try {
      now = Stamp.of(config);
    } catch (IllegalArgumentException e) {
      now = null; // a file is missing for a moment, e.g. between a delete and a rename
    }
    if (now == null || now.equals(loaded) || now.equals(refused)) {
      return;
    }
    try {
      current = build(config, provider);
      loaded = now;
      refused = null;
    } catch (IllegalArgumentException e) {
      refused = now;
      LOG.warn("TLS certificate not reloaded, still serving the previous one: {}", e.getMessage());
    }
  }

  private static SslContext build(TlsConfig config, SslProvider provider) {
    X509Certificate[] chain = readChain(config.certificateChain());
    PrivateKey key = readKey(config.privateKey());
    checkPair(chain[0], key, config);
    SslContext context;
    try {
      context =
          SslContextBuilder.forServer(key, chain)
              .sslProvider(provider)
              .protocols(PROTOCOLS)
              .build();
    } catch (SSLException | RuntimeException e) {
      throw new IllegalArgumentException(
          "TLS certificate " + config.certificateChain() + " is not usable: " + e.getMessage(), e);
    }
    X509Certificate leaf = chain[0];
    if (leaf.getNotAfter().toInstant().isBefore(Instant.now())) {
      LOG.warn("TLS certificate {} expired on {}", config.certificateChain(), leaf.getNotAfter());
    }
    LOG.info(
        "TLS ({}) with certificate {}, valid until {}",
        provider,
        leaf.getSubjectX500Principal().getName(),
        leaf.getNotAfter().toInstant());
    return context;
  }

  private static X509Certificate[] readChain(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      Collection<? extends java.security.cert.Certificate> certificates =
          CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certificates.isEmpty()) {
        throw invalid("TLS certificate", file, "no PEM certificate in it");
      }
      return certificates.toArray(X509Certificate[]::new);
    } catch (IOException e) {
      throw invalid("TLS certificate", file, "cannot be read: " + e);
    } catch (GeneralSecurityException e) {
      throw invalid("TLS certificate", file, "not a PEM certificate: " + e.getMessage());
    }
  }

  private static PrivateKey readKey(Path file) {
    String pem;
    try {
      pem = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw invalid("TLS private key", file, "cannot be read: " + e);
    }
    Matcher match = PKCS8.matcher(pem);
    if (!match.find()) {
      String convert = "convert it with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pkcs8";
      if (pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
        throw invalid("TLS private key", file, "encrypted keys are not supported; " + convert);
      }
      if (pem.matches("(?s).*-----BEGIN (RSA|EC) PRIVATE KEY-----.*")) {
        throw invalid("TLS private key", file, "expected a PKCS#8 key; " + convert);
      }
      throw invalid("TLS private key", file, "no PEM private key (BEGIN PRIVATE KEY) in it");
    }
    PKCS8EncodedKeySpec spec;
    try {
      spec = new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(match.group(1)));
    } catch (IllegalArgumentException e) {
      throw invalid("TLS private key", file, "broken base64 in the PEM block");
    }
    for (String algorithm : new String[] {"RSA", "EC"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (InvalidKeySpecException e) {
        // try the next algorithm
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("every JDK has " + algorithm, e);
      }
    }
    throw invalid("TLS private key", file, "expected an RSA or EC key");
  }

  /**
   * Signs a random challenge with the key and checks it with the certificate: a pair that does not
   * belong together would only fail later, at every client's handshake.
   */
  private static void checkPair(X509Certificate leaf, PrivateKey key, TlsConfig config) {
    String algorithm = key instanceof RSAPrivateKey ? "SHA256withRSA" : "SHA256withECDSA";
    byte[] challenge = new byte[32];
    new SecureRandom().nextBytes(challenge);
    boolean matches;
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(challenge);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(leaf.getPublicKey());
      verifier.update(challenge);
      matches = verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      matches = false; // e.g. an EC key beside an RSA certificate
    }
    if (!matches) {
      throw invalid(
          "TLS private key",
          config.privateKey(),
          "does not match the certificate in " + config.certificateChain());
    }
  }

  private static IllegalArgumentException invalid(String what, Path file, String problem) {
    return new IllegalArgumentException(what + " " + file + ": " + problem);
  }

  /** What is cheap to compare of both files: modification times and sizes. */
  private record Stamp(FileTime certTime, long certSize, FileTime keyTime, long keySize) {
    static Stamp of(TlsConfig config) {
      BasicFileAttributes cert = attributes("TLS certificate", config.certificateChain());
      BasicFileAttributes key = attributes("TLS private key", config.privateKey());
      return new Stamp(cert.lastModifiedTime(), cert.size(), key.lastModifiedTime(), key.size());
    }

    /** Follows symbolic links, so a Kubernetes secret's swapped {@code ..data} link counts. */
    private static BasicFileAttributes attributes(String what, Path file) {
      try {
        return Files.readAttributes(Objects.requireNonNull(file), BasicFileAttributes.class);
      } catch (IOException e) {
        throw invalid(what, file, "cannot be read: " + e);
      }
    }
  }
}
