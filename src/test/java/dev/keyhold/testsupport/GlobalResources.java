package dev.keyhold.testsupport;

import io.quarkus.test.common.QuarkusTestResource;

/** Applies {@link KeyholdTestResource} to every Quarkus test. */
@QuarkusTestResource(value = KeyholdTestResource.class, restrictToAnnotatedClass = false)
public class GlobalResources {}
