// Create chatapp's MongoDB user: readWrite on the `chatapp` database, nothing else.
//
//   CHATAPP_DB_PASSWORD='a long random password' mongosh --quiet \
//     "mongodb://127.0.0.1:27017/admin" -u admin -p --authenticationDatabase admin \
//     --file create-user.js
//
// With authorization on and no user yet, MongoDB's localhost exception lets the first
// connection from this machine create one user: create an admin first (root role), then
// run this script as that admin. Without CHATAPP_DB_PASSWORD the script asks for it.
// The app then connects with
//   CHATAPP_DATABASE_URL=mongodb://chatapp:PASSWORD@127.0.0.1:27017/chatapp?authSource=admin
// (percent-encode any of  : / ? # [ ] @  in the password, or generate one without them:
//  openssl rand -base64 33 | tr '+/' '-_').

const userName = process.env.CHATAPP_DB_USER || "chatapp";
const dbName = process.env.CHATAPP_DB_NAME || "chatapp";
const password = process.env.CHATAPP_DB_PASSWORD || passwordPrompt();

if (password.length < 16) {
  throw new Error("use a password of at least 16 characters");
}

// The user is kept in `admin` (hence authSource=admin) but may only touch `dbName`.
const admin = db.getSiblingDB("admin");
const roles = [{ role: "readWrite", db: dbName }];
if (admin.getUser(userName)) {
  admin.updateUser(userName, { pwd: password, roles: roles });
  print(`updated user ${userName} (readWrite on ${dbName})`);
} else {
  admin.createUser({ user: userName, pwd: password, roles: roles });
  print(`created user ${userName} (readWrite on ${dbName})`);
}
