/*
| Bouncer abilities (pre-registered, usable by name in Edge). The app's
| rules live in policies (app/policies); none are needed here yet.
*/
export {}
