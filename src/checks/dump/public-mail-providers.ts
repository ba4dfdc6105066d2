import { canonicalDomain } from '../../verify/domain-names.ts';

/**
 * Domains where anyone can open a mailbox, and whose mail the provider signs for every user. A
 * signature by such a domain ties a message to the provider, not to one of its users: any user
 * can send a message genuinely signed by gmail.com that claims another user's Message-ID or
 * answers another user's message (red team 5, finding 02). So across two addresses of one of
 * these domains, a proven message is no witness against the other (witnessesAgainst).
 *
 * The largest providers only, by hand, because the lists published on npm fetch their data from
 * the network when installed, which this project's offline installs cannot do. The list can
 * only be incomplete: a domain missing from it (a university, a smaller provider) keeps the
 * stricter reading, where a proven message by one user can make another user's message
 * suspicious. docs/checks.md says so.
 */
const PUBLIC_MAIL_PROVIDERS: ReadonlySet<string> = new Set([
  // Google
  'gmail.com', 'googlemail.com',
  // Microsoft
  'outlook.com', 'outlook.fr', 'outlook.de', 'hotmail.com', 'hotmail.co.uk', 'hotmail.fr', 'hotmail.de', 'hotmail.it', 'hotmail.es',
  'live.com', 'live.fr', 'live.co.uk', 'live.de', 'msn.com',
  // Yahoo and AOL
  'yahoo.com', 'yahoo.fr', 'yahoo.co.uk', 'yahoo.de', 'yahoo.es', 'yahoo.it', 'yahoo.co.jp', 'yahoo.com.br', 'ymail.com', 'rocketmail.com', 'aol.com', 'aim.com',
  // Apple
  'icloud.com', 'me.com', 'mac.com',
  // privacy-minded and independent providers
  'protonmail.com', 'protonmail.ch', 'proton.me', 'pm.me', 'tutanota.com', 'tutanota.de', 'tuta.io', 'tuta.com', 'fastmail.com', 'fastmail.fm',
  'zoho.com', 'zohomail.com', 'hushmail.com', 'riseup.net', 'mailbox.org', 'posteo.de', 'posteo.net', 'mail.com', 'email.com',
  // European providers
  'gmx.com', 'gmx.de', 'gmx.net', 'gmx.fr', 'gmx.at', 'gmx.ch', 'web.de', 't-online.de', 'freenet.de', 'orange.fr', 'wanadoo.fr',
  'free.fr', 'laposte.net', 'sfr.fr', 'neuf.fr', 'libero.it', 'virgilio.it', 'tiscali.it', 'seznam.cz', 'wp.pl', 'o2.pl', 'interia.pl',
  'onet.pl', 'btinternet.com', 'sky.com', 'virginmedia.com', 'ziggo.nl', 'kpnmail.nl', 'telenet.be', 'skynet.be', 'bluewin.ch',
  // elsewhere
  'mail.ru', 'bk.ru', 'inbox.ru', 'list.ru', 'yandex.ru', 'yandex.com', 'ya.ru', 'rambler.ru', 'ukr.net', 'qq.com', 'foxmail.com',
  '163.com', '126.com', 'yeah.net', 'sina.com', 'naver.com', 'daum.net', 'hanmail.net', 'rediffmail.com', 'comcast.net',
  'verizon.net', 'att.net', 'sbcglobal.net', 'bellsouth.net', 'cox.net', 'earthlink.net', 'shaw.ca', 'rogers.com', 'sympatico.ca',
  'bigpond.com', 'optusnet.com.au', 'uol.com.br', 'bol.com.br', 'terra.com.br',
]);

export const isPublicMailProvider = (domain: string): boolean => PUBLIC_MAIL_PROVIDERS.has(canonicalDomain(domain));
