package io.progresshub.store.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.progresshub.core.HubException;
import io.progresshub.core.Job;
import io.progresshub.core.JobStatus;
import java.io.IOException;
import java.io.StringWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * A {@link Job} snapshot as one JSON object, the form the stores keep it in. Thread-safe.
 *
 * <p>Two forms differ only in the order of map keys: {@link #AS_GIVEN} keeps metadata keys in the
 * order the producer gave them; {@link #SORTED} sorts them, so that equal states are equal texts
 * (the Redis append script compares them as strings). Either form reads the other.
 *
 * <p>Field names are the wire names ({@code created_at}, {@code eta_seconds}...); absent optionals
 * are absent keys. Instants are ISO-8601 strings with all their digits ({@link Instant#toString}),
 * so they come back exactly, to the nanosecond. Doubles are written in their shortest exact form.
 * JSON values in {@code metadata} and {@code result} come back as the types Jackson reads: {@code
 * Integer} for integers that fit, then {@code Long}, {@code BigInteger}; {@code Double} for
 * fractions; {@code String}, {@code Boolean}, lists and maps (unmodifiable), {@code null} inside
 * containers.
 */
public final class JobJson {

  /** Metadata keys in the order the producer gave them. */
  public static final JobJson AS_GIVEN = new JobJson(JsonMapper.builder().build());

  /** Map keys sorted: equal states are equal texts. */
  public static final JobJson SORTED =
      new JobJson(
          JsonMapper.builder().enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS).build());

  private static final ObjectMapper READER = JsonMapper.builder().build();
  private static final TypeReference<Map<String, Object>> OBJECT = new TypeReference<>() {};

  private final ObjectMapper writer;

  private JobJson(ObjectMapper writer) {
    this.writer = writer;
  }

  /** The job as one JSON object. */
  public String write(Job job) throws IOException {
    StringWriter out = new StringWriter(256);
    try (JsonGenerator json = writer.createGenerator(out)) {
      json.writeStartObject();
      json.writeStringField("id", job.id());
      json.writeStringField("owner", job.owner());
      json.writeStringField("type", job.type());
      json.writeStringField("status", job.status().wireName());
      json.writeNumberField("seq", job.seq());
      json.writeNumberField("progress", job.progress());
      writeOptional(json, "stage", job.stage());
      writeOptional(json, "message", job.message());
      json.writeFieldName("metadata");
      json.writeObject(job.metadata());
      if (job.result().isPresent()) {
        json.writeFieldName("result");
        json.writeObject(job.result().get());
      }
      writeOptional(json, "error", job.error());
      json.writeStringField("created_at", job.createdAt().toString());
      json.writeStringField("updated_at", job.updatedAt().toString());
      writeOptional(json, "started_at", job.startedAt().map(Instant::toString));
      writeOptional(json, "finished_at", job.finishedAt().map(Instant::toString));
      if (job.etaSeconds().isPresent()) {
        json.writeNumberField("eta_seconds", job.etaSeconds().getAsDouble());
      }
      json.writeNumberField("progress_at_start", job.progressAtStart());
      json.writeEndObject();
    }
    return out.toString();
  }

  /**
   * The job a {@link #write} wrote, in either form.
   *
   * @throws HubException {@code store_unavailable} for a text that is not a stored job
   */
  public Job read(String text) {
    Map<String, Object> json;
    try {
      json = READER.readValue(text, OBJECT);
    } catch (IOException e) {
      throw corrupt("not a JSON object: " + e.getMessage(), e);
    }
    try {
      @SuppressWarnings("unchecked")
      Map<String, Object> metadata = (Map<String, Object>) freeze(json.get("metadata"));
      String status = (String) json.get("status");
      return new Job(
          (String) json.get("id"),
          (String) json.get("owner"),
          (String) json.get("type"),
          JobStatus.fromWireName(status).orElseThrow(() -> corrupt("status: " + status, null)),
          ((Number) json.get("seq")).longValue(),
          ((Number) json.get("progress")).doubleValue(),
          Optional.ofNullable((String) json.get("stage")),
          Optional.ofNullable((String) json.get("message")),
          metadata == null ? Map.of() : metadata,
          Optional.ofNullable(freeze(json.get("result"))),
          Optional.ofNullable((String) json.get("error")),
          Instant.parse((String) json.get("created_at")),
          Instant.parse((String) json.get("updated_at")),
          Optional.ofNullable((String) json.get("started_at")).map(Instant::parse),
          Optional.ofNullable((String) json.get("finished_at")).map(Instant::parse),
          json.get("eta_seconds") instanceof Number eta
              ? OptionalDouble.of(eta.doubleValue())
              : OptionalDouble.empty(),
          ((Number) json.get("progress_at_start")).doubleValue());
    } catch (RuntimeException e) {
      if (e instanceof HubException hubException) {
        throw hubException;
      }
      throw corrupt(e.toString(), e);
    }
  }

  private static void writeOptional(JsonGenerator json, String field, Optional<String> value)
      throws IOException {
    if (value.isPresent()) {
      json.writeStringField(field, value.get());
    }
  }

  /** Snapshots are shared between threads: nested containers come back read-only. */
  private static Object freeze(Object value) {
    if (value instanceof Map<?, ?> map) {
      Map<Object, Object> copy = new LinkedHashMap<>(map.size() * 2);
      map.forEach((k, v) -> copy.put(k, freeze(v)));
      return Collections.unmodifiableMap(copy);
    }
    if (value instanceof List<?> list) {
      List<Object> copy = new ArrayList<>(list.size());
      for (Object item : list) {
        copy.add(freeze(item));
      }
      return Collections.unmodifiableList(copy);
    }
    return value;
  }

  private static HubException corrupt(String detail, Throwable cause) {
    return HubException.unavailable("stored job state is unreadable: " + detail, cause);
  }
}
