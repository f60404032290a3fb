import { verifyControlSamples } from "../../../test/harness/samples.ts";
import { privilegedContainers } from "./index.ts";
import { samples } from "./samples.ts";

verifyControlSamples(privilegedContainers, samples);
