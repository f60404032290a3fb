// The policy catalogue's public surface: what the API, the CLI and the agent import.
export { catalogue, controlById } from "./catalogue.ts";
export { EnvironmentSettings, DEFAULT_EXEMPT_NAMESPACES } from "./settings.ts";
export type { EnvironmentSettingsInput, ControlSettings } from "./settings.ts";
export { renderEnvironment, enabledControls, type RenderedEnvironment } from "./environment.ts";
export { presets, presetControls, PRESET_NAMES, applyPreset, type PresetName } from "./presets/index.ts";
export { PSS_VERSIONS, LATEST_PSS_VERSION, PssVersion } from "./common/pss-version.ts";
export { fieldIssues, fieldPath, type FieldIssue } from "./issues.ts";
export { MANAGED_BY, CONTROL_LABEL, HASH_ANNOTATION, type K8sObject } from "./render.ts";
export { toYaml } from "./yaml.ts";
