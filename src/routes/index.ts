// Every route module of the API. A module exports `register(app)` and declares its routes with
// createRoute (see tenant.ts, the model); add it to this list and createApp mounts it.
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app/env.ts";
import * as tenant from "./tenant.ts";

export interface RouteModule {
  register(app: OpenAPIHono<AppEnv>): void;
}

export const routes: readonly RouteModule[] = [tenant];
