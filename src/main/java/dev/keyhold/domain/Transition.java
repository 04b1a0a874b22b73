package dev.keyhold.domain;

/** The result of a pure transition: the new value, and the change to record with it (in the same transaction). */
public record Transition<T>(T value, DomainChange change) {}
