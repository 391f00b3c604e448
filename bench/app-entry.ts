// What a chat app imports for moderation: the measured main-thread cost of lingoguard (P5).
import { classify, createGuard } from 'lingoguard';

Object.assign(globalThis, { lingoguard: { classify, createGuard } });
