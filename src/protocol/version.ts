/** Bumped on any incompatible change; negotiated in the first message (hello). Its own module: the CRM widget needs it without the schemas. */
export const PROTOCOL_VERSION = 1;
