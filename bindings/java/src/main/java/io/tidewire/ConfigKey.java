package io.tidewire;

import java.util.Optional;

/**
 * One key of the core's configuration table (docs/CONFIGURATION.md is generated from the same
 * table). {@code type} is "string", "int", "bool", "enum", "list" or "map" ({@code header.<Name>});
 * {@code alias} is the name with "." written as "_" ({@code reconnect_max_ms}), which the core
 * accepts wherever the name is, empty for {@code header.<Name>}.
 */
public record ConfigKey(
    String name, String type, String defaultValue, String accepted, String doc, Optional<String> alias) {}
