// Every label the hall screen shows: [Chinese, English]. Both are shown by default;
// ?lang=zh or ?lang=en (or the L key) shows one.
export const L = {
  live: ["已连接", "Live"],
  connecting: ["正在连接", "Connecting"],
  lost: ["连接中断", "Connection lost"],
  lostBanner: ["连接中断", "Connection lost"],
  staleBanner: ["数据可能已过时", "What is shown may be out of date"],
  lastUpdate: ["最后更新", "last update"],
  reconnecting: ["正在重新连接…", "reconnecting…"],
  linkRefused: ["站点链接无效，以公众身份显示", "Site link refused; showing the public view"],
  joinRefused: ["无法进入开标项目", "Cannot join the opening"],
  noOpenings: ["暂无开标项目", "No openings"],
  paused: ["已暂停", "Paused"],
  secret: ["开标前保密", "secret until the deadline"],
  namesAfter: ["名单开标后公布", "names after the deadline"],
  notDisclosed: ["开标前不公布投标人名单和数量", "Bidders and their number are not disclosed before the deadline"],
  noQuorum: ["有效投标不足，不能开标", "Too few bids: the opening cannot proceed"],
  noValidQuorum: ["有效投标不足，不能继续开标", "Too few valid bids: the opening cannot go on"],
  noBids: ["无投标", "No bids"],
  signedIn: ["已签到", "Signed in"],
  notSignedIn: ["未签到", "Not signed in"],
  bids: ["投标文件", "Bids"],
  decrypted: ["已解密", "Decrypted"],
  announced: ["已唱标", "Announced"],
  confirmedCount: ["已确认", "Confirmed"],
  no: ["序号", "No."],
  bidder: ["投标人", "Bidder"],
  status: ["状态", "Status"],
  confirmation: ["确认", "Confirmation"],
  draw: ["抽取", "Draw"],
  benchmark: ["评标基准价", "Benchmark price"],
  validBids: ["有效投标", "valid bids"],
  mean: ["平均值", "mean"],
  coefficient: ["系数", "coefficient"],
  dropped: ["去掉", "dropped"],
  answer: ["答复", "Answer"],
  awaitingAnswer: ["待主持人答复", "Awaiting the host's answer"],
  recordToConfirm: ["待确认的开标记录", "Record to confirm"],
  finalRecord: ["开标结束 · 最终开标记录", "Closed · final record"],
  closed: ["开标结束，开标记录已签署", "The opening is closed and its record signed"],
  failedReason: ["流标原因", "Reason"],
  historyGap: ["仅显示当前状态（更早的记录未载入）", "Current state only (older entries were not loaded)"],
  serverTime: ["服务器时间", "Server time"],
  untilCheckin: ["距签到开始", "Sign-in opens in"],
  untilDeadline: ["距开标", "Opening in"],
  decryptLeft: ["解密剩余时间", "Decryption time left"],
  confirmLeft: ["确认剩余时间", "Confirmation time left"],
  confirmOver: ["确认期已结束", "The confirmation window has closed"],
  deadlinePassed: ["已到投标截止时间", "The bid deadline has passed"],
  at: ["时间", "at"],
  deadline: ["投标截止", "Deadline"],
};

const PHASES = {
  "": ["—", "—"],
  scheduled: ["接收投标", "Accepting bids"],
  checkin: ["签到中", "Sign-in open"],
  awaiting_open: ["待开标", "Awaiting opening"],
  decrypting: ["解密中", "Decrypting"],
  announcing: ["唱标", "Announcing"],
  confirming: ["确认中", "Confirming"],
  closed: ["开标结束", "Closed"],
  failed: ["流标", "Failed"],
};

// a bid's decryption (snap.bidders[].state, §10)
const STATES = {
  submitted: ["待解密", "Waiting"],
  requested: ["待解密", "Waiting"],
  decrypted: ["已解密", "Decrypted"],
  revoked: ["撤销", "Revoked"],
  withdrawn: ["撤回", "Withdrawn"],
};

// an opened bid's status (bid_announced.status, §11)
const STATUSES = {
  valid: ["有效", "Valid"],
  invalid: ["无效", "Invalid"],
  revoked: ["撤销", "Revoked"],
  withdrawn: ["撤回", "Withdrawn"],
  missing: ["未解密", "Not decrypted"],
};

// a valid bidder's answer to the record (§11 confirmations)
const CONFIRMS = {
  confirmed: ["已确认", "Confirmed"],
  objected: ["有异议", "Objected"],
  deemed: ["视为认可", "Deemed to accept"],
  pending: ["待确认", "Pending"],
};

export const phaseLabel = (p) => PHASES[p] || [p, p];
export const stateLabel = (s) => STATES[s] || [s || "—", s || "—"];
export const statusLabel = (s) => STATUSES[s] || [s || "—", s || "—"];
export const confirmLabel = (s) => CONFIRMS[s] || ["—", "—"];
