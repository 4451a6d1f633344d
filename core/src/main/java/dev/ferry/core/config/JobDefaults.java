package dev.ferry.core.config;

import dev.ferry.core.retry.BackoffPolicy;

/**
 * What a job gets when its submission leaves a field out: the global defaults, overridden per job
 * type in configuration ({@code type.<type>.max.attempts}, {@code type.<type>.timeout.ms}, {@code
 * type.<type>.backoff.*}).
 */
public record JobDefaults(int maxAttempts, int timeoutMs, BackoffPolicy backoff) {}
