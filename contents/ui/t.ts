import { translator, type ExtensionMessageKey } from "~src/i18n";
import { ext } from "./ext";

export const t = translator<ExtensionMessageKey>((key) => ext?.i18n?.getMessage(key));
