"""Built-in out-of-scope ("background") examples for knowledge bases that have none.

A knowledge base lists what the bot *should* answer; without negative examples a classifier
assigns every message to some intent. These generic off-topic messages (everyday chit-chat,
other kinds of businesses and services, homework, trivia, keyboard mashing), in Chinese and
English, are learned as a background class. Any of them that is too close to one of the
knowledge base's own examples (cosine similarity of the sentence embeddings above
``CONFLICT_SIMILARITY``) is dropped, so a business whose domain overlaps a topic keeps it.
A knowledge base that provides its own ``oos`` examples uses those instead.

Most of them are other businesses' customer-service requests (banks, payment apps, shops, food
delivery, travel, utilities, public services, streaming and games, devices): the out-of-scope
messages a support bot really receives reuse its own verbs (reset a password, cancel, refund,
complain, a lost card) about someone else's product. Their mean embedding is also the centre
that the encoder's vectors are shifted by before classification (see :func:`embedding.center`).
"""

from __future__ import annotations

CONFLICT_SIMILARITY = 0.9

EXAMPLES: tuple[str, ...] = (
    # everyday chit-chat, trivia, requests for content
    "今天外面冷不冷", "这周末会不会下大雪", "晚饭做什么菜比较简单", "红烧肉怎么做才好吃",
    "推荐一部好看的电影",
    "最近有什么好听的歌", "讲个冷笑话听听", "你喜欢什么颜色", "你多大了", "人生的意义是什么",
    "地球到月亮有多远", "恐龙是怎么灭绝的", "帮我写一首关于春天的诗", "帮我翻译一句日语", "这道物理题怎么做",
    "作文开头怎么写比较吸引人", "二次方程的求根公式是什么", "猫为什么喜欢抓沙发", "狗狗拉肚子吃什么药",
    "头疼发烧应该挂哪个科", "怎么才能快速减肥", "失眠有什么好办法", "周末去哪里爬山比较好",
    "附近有什么好吃的火锅",
    "世界杯决赛是哪天", "湖人队昨晚赢了吗", "明星八卦有什么新闻", "股票明天会涨吗", "比特币现在多少钱一个",
    "黄金价格最近怎么样", "怎么学好英语口语", "考研要准备多久", "简历怎么写比较好", "面试的时候紧张怎么办",
    "租房合同要注意什么", "房贷利率是多少", "装修用什么地板好", "汽车保养多久做一次", "驾照扣分怎么处理",
    "护照办理需要什么材料", "签证被拒了怎么办", "公积金怎么提取", "医保报销比例是多少", "养老保险交多少年",
    "燃气费怎么缴纳", "物业费太贵了怎么办", "快递到哪里了", "网购的衣服怎么退货", "外卖送错了怎么办",
    "机票改签要多少手续费", "酒店可以提前入住吗", "火车站怎么走", "地铁几点开始运营", "打车软件哪个便宜",
    "信用卡还款日是哪天", "银行理财产品靠谱吗", "借呗额度怎么提升", "支付宝怎么开发票",
    "游戏账号被封了怎么办",
    "视频会员怎么退款", "音乐软件怎么下载歌曲", "电脑蓝屏了怎么修", "python怎么读取文件", "excel怎么做透视表",
    "哪款笔记本电脑适合学生", "相机和手机拍照哪个好", "洗衣机漏水怎么办", "空调不制冷怎么回事",
    "冰箱有异味怎么处理",
    "孩子不爱写作业怎么办", "宝宝几个月可以吃辅食", "结婚要准备哪些东西", "生日礼物送什么好",
    "帮我起个英文名",
    "啊啊啊啊", "嗯嗯嗯", "哦", "呵呵呵", "随便说点什么", "测试一下", "123456", "阿斯顿发生地方",
    "qwertyuiop",
    "啦啦啦啦啦", "。。。", "你是男的还是女的", "你会唱歌吗", "你能陪我聊天吗",
    # English
    "what's the weather like this weekend", "will it snow tomorrow", "tell me a funny joke",
    "what is the meaning of life",
    "how far is the moon from the earth", "write me a poem about the sea",
    "translate this sentence into french",
    "solve this equation for x", "help me with my chemistry homework",
    "who won the basketball game last night",
    "what's a good recipe for pancakes", "recommend a good restaurant nearby",
    "best movies to watch this year",
    "what music do you like", "how do I lose weight fast", "my dog is sick what should I do",
    "how to cure a headache",
    "what's the price of bitcoin today", "should I buy tesla stock", "how do I apply for a passport",
    "my visa application was rejected", "how do I renew my driver's license", "where is my package delivery",
    "how do I return shoes I bought online", "my food order arrived cold", "can I change my flight date",
    "what time does the museum open", "book a table for two tonight", "how do I reset my email password",
    "my credit card was declined at the store", "how do I open a bank account",
    "what is the mortgage interest rate",
    "my landlord won't return my deposit", "how often should I service my car", "my laptop won't turn on",
    "how do I learn python", "write a cover letter for me", "how to prepare for a job interview",
    "what should I buy my wife for her birthday", "how many calories in an apple",
    "what is quantum computing",
    "who is the president of france", "how do you say hello in spanish", "are you a robot",
    "do you have feelings",
    "sing me a song", "i'm bored", "lol", "asdfgh", "zxcvbnm qwerty", "test test", "blah blah blah", "hmm",
    "my game account got banned", "how do I cancel my gym membership",
    "my streaming subscription charged me twice",
    "how do I pay my electricity bill", "my water heater is broken", "how do I book a doctor appointment",
    # banks and cards
    "银行卡被冻结了怎么解冻", "储蓄卡的年费能不能免掉", "转账转错人了钱能追回来吗", "网银登录一直提示证书过期",
    "房贷提前还款要去哪里申请", "招商银行的客服电话是多少", "银行卡密码输错三次被锁了",
    "跨行取款手续费怎么算", "定期存款提前取出利息怎么算", "U盾丢了怎么办", "信用卡额度太低了能提高吗",
    "信用卡分期的利息怎么这么高",
    # payment apps, loans
    "余额宝的收益怎么变少了", "微信零钱提现要手续费吗", "借呗逾期一天有影响吗", "京东白条怎么关闭",
    "网贷一直打电话催收怎么办", "微信钱包被盗刷了怎么办", "支付宝实名认证换绑身份证",
    "扫码付款显示交易失败",
    # online shopping
    "拼多多的商品质量太差了要退货", "京东的快递为什么还没到", "淘宝卖家不发货怎么办", "买的衣服尺码不合适能换吗",
    "网上买的手机屏幕有坏点", "优惠券为什么用不了", "七天无理由退货运费谁出",
    "下单后能改收货地址吗", "商家发错货了怎么处理", "双十一的定金能退吗",
    # food delivery, restaurants
    "外卖超时了能赔钱吗", "饿了么的会员怎么取消", "点的奶茶少了一杯", "餐厅可以订包间吗", "这家店几点关门",
    "外卖骑手态度很差", "团购券过期了还能用吗",
    # transport and travel
    "火车票怎么退票", "机票怎么选座位", "航班延误了有补偿吗", "行李托运超重怎么收费", "酒店订单怎么取消",
    "打车的时候东西落在车上了", "网约车司机绕路了", "公交卡里的钱怎么退",
    "地铁卡丢了还能补吗", "景区门票可以网上买吗", "去日本旅游要办什么签证", "高速公路的ETC怎么办理",
    # utilities, home, property
    "家里停电了找谁修", "暖气不热打哪个电话", "燃气表没气了怎么充", "小区物业不管事怎么办", "房东不退押金怎么办",
    "楼上漏水把我家天花板泡了", "家里的马桶堵了", "换锁找谁",
    # government and public services
    "户口迁移需要什么材料", "港澳通行证怎么续签", "驾驶证到期怎么换证", "车辆年检去哪里办", "结婚登记要预约吗",
    "个人所得税怎么退税", "居住证怎么办理", "营业执照年报怎么填",
    "公积金贷款额度怎么算",
    # entertainment, media, apps
    "腾讯视频的会员怎么退", "网易云音乐的会员怎么取消续费", "抖音账号被限流了", "微博账号被盗了怎么找回",
    "QQ号冻结了怎么解封", "游戏充值了没到账", "王者荣耀怎么换区", "小红书笔记怎么置顶",
    "B站大会员多少钱", "直播打赏能退回来吗",
    # devices and software (not a phone line)
    "电脑开不了机怎么办", "打印机卡纸了", "路由器的灯一直闪红色怎么回事", "word文档打不开了", "苹果电脑怎么截图",
    "手机屏幕摔碎了去哪修", "耳机只有一边有声音", "电视机没有信号源",
    # education, work
    "孩子幼儿园怎么报名", "四六级考试什么时候报名", "驾校报名多少钱", "请假扣工资合法吗", "公司不交社保怎么办",
    "辞职要提前多久说", "年终奖怎么扣税", "帮我写份周报",
    # health, insurance
    "感冒了吃什么药好得快", "医院怎么网上挂号", "体检报告看不懂", "车险理赔需要什么材料", "重疾险值不值得买",
    "保险退保能退多少钱", "牙疼怎么办",
    # chit-chat, random, other
    "你吃饭了吗", "今天心情不好", "陪我聊会天吧", "你是机器人吗", "给我讲个故事", "明天放假吗", "现在几点了",
    "帮我算一下三加五等于几", "猜猜我是谁", "你叫什么名字", "我好无聊啊",
    "嘿嘿嘿", "哈哈", "。", "？？", "好的好的好的好的", "asdfjkl", "1111",
    # English: other businesses and services
    "how do I unlock my bank card", "I forgot my online banking password",
    "can I dispute a transaction on my debit card", "what's the interest rate on a savings account",
    "my paypal account is limited", "how do I get a refund from amazon", "the seller never shipped my order",
    "my parcel says delivered but I didn't get it", "how do I change my delivery address",
    "can I return an item without a receipt", "my uber driver took a longer route", "I left my bag in a taxi",
    "my flight got cancelled what are my options", "how much is the checked baggage fee",
    "can I get a late checkout at the hotel", "how do I cancel my hotel booking",
    "how do I cancel my spotify premium", "my spotify subscription renewed without asking",
    "how do I change my instagram password", "my facebook account was hacked", "how do I delete my twitter account",
    "my game purchase didn't go through", "how do I reset my router", "my printer won't connect to wifi",
    "my laptop screen is flickering", "how do I pay my gas bill online", "who do I call about a power outage",
    "my rent payment bounced", "how do I file my taxes", "how do I renew my passport",
    "where do I get a fishing license", "how do I book a covid test", "my insurance claim was denied",
    "how do I cancel my car insurance", "can you recommend a dentist", "what's the best running shoe",
    "how tall is mount everest", "what day is it today", "tell me something interesting",
    "good morning sunshine lol", "I am so tired today", "can you do my homework", "what's 15 percent of 80",
    "play some music", "set an alarm for 7am",
)
