package io.progresshub.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The fenced code blocks of a Markdown file, and which of them are named runnable examples: a block
 * right after a line {@code <!-- example: NAME -->} (blank lines between are allowed).
 */
final class MarkdownExamples {
  private static final Pattern MARKER =
      Pattern.compile("\\s*<!--\\s*example:\\s*([\\w.-]+)\\s*-->");
  private static final Pattern FENCE = Pattern.compile("\\s*```\\s*([\\w+-]*)\\s*");

  /** One fenced block; {@code name} is empty when no marker precedes it. */
  record Block(Path file, int line, String name, String language, String code) {
    @Override
    public String toString() {
      return file + ":" + line + (name.isEmpty() ? "" : " (" + name + ")");
    }
  }

  private MarkdownExamples() {}

  /** Every fenced block of {@code file}, in order. */
  static List<Block> blocks(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<Block> blocks = new ArrayList<>();
    String pendingName = "";
    for (int i = 0; i < lines.size(); i++) {
      Matcher marker = MARKER.matcher(lines.get(i));
      if (marker.matches()) {
        pendingName = marker.group(1);
        continue;
      }
      Matcher fence = FENCE.matcher(lines.get(i));
      if (fence.matches()) {
        int start = i;
        StringBuilder code = new StringBuilder();
        for (i++; i < lines.size() && !lines.get(i).strip().equals("```"); i++) {
          code.append(lines.get(i)).append('\n');
        }
        blocks.add(new Block(file, start + 1, pendingName, fence.group(1), code.toString()));
        pendingName = "";
      } else if (!lines.get(i).isBlank()) {
        pendingName = ""; // a marker names only the block right after it
      }
    }
    return blocks;
  }

  /** The named blocks of {@code file}, by name. */
  static Map<String, Block> named(Path file) {
    Map<String, Block> named = new LinkedHashMap<>();
    for (Block block : blocks(file)) {
      if (!block.name().isEmpty() && named.put(block.name(), block) != null) {
        throw new AssertionError("two examples named " + block.name() + " in " + file);
      }
    }
    return named;
  }
}
