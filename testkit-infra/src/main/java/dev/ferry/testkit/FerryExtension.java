package dev.ferry.testkit;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension that injects a {@link FerryTestEnv} into test methods (and constructors or
 * lifecycle methods): real Kafka and PostgreSQL, started once per test run, with a fresh database
 * and topic prefix for each injection. The environment is closed when the scope that asked for it
 * ends.
 *
 * <pre>{@code
 * @ExtendWith(FerryExtension.class)
 * class MyIT {
 *   @Test void works(FerryTestEnv env) { ... }
 * }
 * }</pre>
 */
public final class FerryExtension implements ParameterResolver {
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(FerryExtension.class);

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext ctx) {
    return p.getParameter().getType() == FerryTestEnv.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext ctx)
      throws ParameterResolutionException {
    FerryTestEnv env = FerryTestEnv.create();
    ctx.getStore(NS).put(env, new Holder(env));
    return env;
  }

  /** Closes the environment when the extension context's store is closed. */
  private record Holder(FerryTestEnv env) implements AutoCloseable {
    @Override
    public void close() {
      env.close();
    }
  }
}
