package dev.ferry.core.config;

/** A setting is missing or has a bad value; the message names the setting and the value. */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }
}
