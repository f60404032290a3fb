// Free text that ends up in logs and terminals (API key names, webhook descriptions): trimmed,
// bounded, no control characters. One helper, so the rule and its OpenAPI `pattern` are written
// once. The class is spelled as ranges — Unicode's Cc is exactly U+0000–U+001F and U+007F–U+009F —
// because the OpenAPI generator writes a regex's toString() minus the slashes: `/…/u` leaked into
// the document as `…$/u`, a pattern that matches nothing, so generated clients refused every value.
// Without a flag the pattern means the same as ECMA-262 with and without `u`.
import { z } from "@hono/zod-openapi";

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
export const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f-\u009f]*$/;

/** A trimmed string of at most `max` characters, without control characters. */
export const plainText = (max: number) => z.string().trim().max(max).regex(NO_CONTROL_CHARACTERS, "must not contain control characters");
