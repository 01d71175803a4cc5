package io.tidewire;

/**
 * One key of the core's configuration table (docs/CONFIGURATION.md is generated from the same
 * table). {@code type} is "string", "int", "bool", "enum", "list" or "map" ({@code header.<Name>}).
 */
public record ConfigKey(
    String name, String type, String defaultValue, String accepted, String doc) {}
